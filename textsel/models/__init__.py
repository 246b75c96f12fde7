"""Target models for Selection via Proxy: a Hugging Face transformer classifier and VDCNN."""
