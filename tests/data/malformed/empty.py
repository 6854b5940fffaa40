# expect: 1:1: no program
