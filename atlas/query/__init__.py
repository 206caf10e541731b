"""The query vocabulary, the ground floor of reading: CRSs, CQL2 and the filter tree,
``FeatureQuery``, value typing, and the parsed OGC requests the gate receives.

No FastAPI and no SQL here: the API parses HTTP parameters into these types, the policy gate
checks them against a tier's view, and the stores render them as SQL.
"""
