"""Shared type aliases and canonical names."""

from __future__ import annotations

from typing import Tuple

NodeType = str
EdgeType = Tuple[str, str, str]  # (source node type, relation, destination node type)

SNP: NodeType = "snp"
TF: NodeType = "tf"
GENE: NodeType = "gene"
EQTL: EdgeType = (SNP, "eqtl", GENE)
GRN: EdgeType = (TF, "regulates", GENE)
