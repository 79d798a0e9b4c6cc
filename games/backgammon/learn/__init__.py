"""What a network learns from: encodings, hand-made features, tokens, and the decision dataset.

Imports rules and records. The encoders are NumPy/Numba; the dataset builds
:class:`comparison.data.DecisionSet` (torch) and is imported only when asked for.
"""
