"""Donor receipts: gapless numbers per site, thank-you letters and refund notices."""
