"""Adapters from external formats and sources to deepgami's canonical tables.

One module per source or format (PLINK, VCF, GTEx eQTL tables, GRN flavours, AnnData/MuData,
packaged TCGA tables, Reactome), each exposing ``load_<source>(path, ...)`` that returns a
samples x features table with string ids or an edge table ``source,target[,weight]``.
Adapters never train, hold no default real paths, and import their optional dependency only
when called. They import the deepgami core only, and no other layer imports them (see the
layers in :mod:`deepgami`).
"""
