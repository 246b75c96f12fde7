"""Target models for Selection via Proxy: a Hugging Face transformer classifier and VDCNN."""

from textsel.models.transformer import TransformerClassifier
from textsel.models.vdcnn import VDCNN, VDCNNClassifier

__all__ = ["VDCNN", "TransformerClassifier", "VDCNNClassifier"]
