"""Cases (the 台账): a household followed from the first lead to risk elimination."""
