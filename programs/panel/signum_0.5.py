"""signum at momentum 0.5: with signum_0.66, signum_0.9 and signum_0.99, a momentum sweep to
find signum's best momentum on the suite (2026-12-02; the ladder's rung-1 searches
climb to signum at low momenta). Not Lion: it joins the panel it is judged against."""


def train(w, g, m, v, lr):
    m = interp(g, m, 0.5)
    update = sign(m)
    return update, m, v
