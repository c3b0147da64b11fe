"""Funding programmes, their calls for proposals and lump-sum catalogues."""
