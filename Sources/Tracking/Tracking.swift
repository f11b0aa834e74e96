// The file-based experiment tracker: filled by issue 6.
enum TrackingModule {}
