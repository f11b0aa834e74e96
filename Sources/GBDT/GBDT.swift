// Histogram gradient-boosted trees: filled by issue 3.
enum GBDTModule {}
