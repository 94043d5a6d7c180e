"""PLINK 1 binary filesets (.bed/.bim/.fam) as a genotype modality table.

The reader is :func:`deepgami.plink.load_plink`, core code because
:func:`deepgami.readers.read_modality` reads ``.bed`` modalities with it; it is exported here
beside the other adapters. Needs the optional dependency ``bed-reader``, imported when
:func:`load_plink` is called.
"""

from __future__ import annotations

from ..genotypes import GenotypeTable
from ..plink import load_plink

__all__ = ["GenotypeTable", "load_plink"]
