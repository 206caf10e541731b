"""The demo territory: a synthetic Grand Paris Sud written in the national formats (``atlas demo``).

Real facts (the 23 communes, their INSEE codes, populations and approximate town centres, the
EPCI) are written down as Python data; every geometry and attribute beyond them is generated
from a seeded numpy Generator, so one seed always gives byte-identical files.
"""
