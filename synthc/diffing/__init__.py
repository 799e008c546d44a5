"""What a change does to a dataset: two sides (built outputs or planned specs) compared.

``sides`` turns a manifest or a compiled spec into a :class:`~synthc.diffing.sides.Side`;
``fields``, ``inputs`` and ``shards`` compare one aspect each; ``result`` puts them together in a
:class:`~synthc.diffing.result.DatasetDiff`, and ``text`` writes it for people.
"""
