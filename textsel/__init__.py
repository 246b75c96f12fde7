"""textsel: find rare classes in large text collections with few labels and little compute.

Data flows one way: pool -> embeddings -> index -> candidate pool -> strategy -> labels -> model.
"""

from textsel.data import Pool
from textsel.errors import TextselError
from textsel.index import ExactIndex, HNSWIndex, build_index, load_index

__version__ = "0.1.0"

__all__ = ["ExactIndex", "HNSWIndex", "Pool", "TextselError", "build_index", "load_index", "__version__"]
