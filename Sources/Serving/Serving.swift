// The HTTP model and feature server: filled by issue 7.
enum ServingModule {}
