#pragma once
#include <librdkafka/rdkafka.h>
// The mock API header must follow rdkafka.h: it uses its types.
#include <librdkafka/rdkafka_mock.h>
