/* libFuzzer harness: the decoder must survive anything a guest can send. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Accepted input must be canonical: re-encoding a decoded message gives back
 * the very bytes consumed, and decoding those gives the same message.
 */
static void check_round_trip(const uint8_t *in, int n, const struct vtb_msg *m)
{
	uint8_t buf[VTB_MSG_MAX];
	struct vtb_msg again;
	int e, d;

	e = vtb_msg_encode(m, buf, sizeof(buf));
	if (e != n || memcmp(buf, in, (size_t)n) != 0)
		abort();
	memset(&again, 0xa5, sizeof(again));
	d = vtb_msg_decode(buf, (size_t)e, &again);
	if (d != e || memcmp(&again, m, sizeof(again)) != 0)
		abort();
	if (vtb_msg_type_name(m->type)[0] == 'U')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As a stream reader would: consume messages until error or prefix. */
	while (size > 0) {
		struct vtb_msg m;
		int n;

		/* A copy of exactly the remaining bytes lets ASan catch
		 * overreads. */
		uint8_t *copy = malloc(size);

		if (!copy)
			abort();
		memcpy(copy, data, size);
		memset(&m, 0, sizeof(m));
		n = vtb_msg_decode(copy, size, &m);
		if (n > 0) {
			if ((size_t)n > size)
				abort();
			check_round_trip(copy, n, &m);
		}
		free(copy);
		if (n <= 0)
			break;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}
