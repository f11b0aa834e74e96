// The stream job (sources, sinks, checkpoints): filled by issue 5.
enum StreamingModule {}
