// Point-in-time training sets over a Parquet offline store: filled by issue 4.
enum PointInTimeModule {}
