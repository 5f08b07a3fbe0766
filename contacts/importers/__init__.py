"""Reading contact files (CSV, vCard): encodings, formats, the column mapping, and the import job."""
