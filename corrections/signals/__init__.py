"""Background positions from phones under an electronic-monitoring order (signals)."""
