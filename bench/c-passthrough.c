// Pass-through loop written directly on librabbitmq, the baseline for `make bench-amqp`.
// consume bench.in (prefetch P) -> publish to exchange bench.out with confirms -> ack the input after the confirm.
// Usage: c-passthrough <messages> <prefetch> [host] [port]
// Prints one line: "c messages=N seconds=S rate=R/s peak_rss_kb=K".
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define CONSUME_CH 2
#define PUBLISH_CH 1

static void die_on(amqp_rpc_reply_t r, const char *what) {
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        fprintf(stderr, "c-passthrough: %s failed (reply type %d, library error %s)\n", what, r.reply_type,
                amqp_error_string2(r.library_error));
        exit(1);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_confirms(amqp_connection_state_t c, uint64_t upto) {
    // Used by the prefill: read basic.ack frames until `upto` is confirmed.
    static uint64_t confirmed = 0;
    while (confirmed < upto) {
        amqp_frame_t f;
        if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) { fprintf(stderr, "wait failed\n"); exit(1); }
        if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            confirmed = a->delivery_tag;
        }
    }
}

int main(int argc, char **argv) {
    long total = argc > 1 ? atol(argv[1]) : 100000;
    int prefetch = argc > 2 ? atoi(argv[2]) : 500;
    const char *host = argc > 3 ? argv[3] : "127.0.0.1";
    int port = argc > 4 ? atoi(argv[4]) : 5672;

    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(c);
    if (amqp_socket_open(s, host, port) != AMQP_STATUS_OK) { fprintf(stderr, "cannot connect\n"); return 1; }
    die_on(amqp_login(c, "/", 0, 131072, 10, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
    amqp_channel_open(c, PUBLISH_CH); die_on(amqp_get_rpc_reply(c), "channel.open 1");
    amqp_channel_open(c, CONSUME_CH); die_on(amqp_get_rpc_reply(c), "channel.open 2");
    amqp_confirm_select(c, PUBLISH_CH); die_on(amqp_get_rpc_reply(c), "confirm.select");

    // Topology (same as the Swift bench): bench.in, exchange bench.out -> bench.sink (bounded, drop-head).
    amqp_queue_declare(c, CONSUME_CH, amqp_cstring_bytes("bench.in"), 0, 0, 0, 0, amqp_empty_table);
    die_on(amqp_get_rpc_reply(c), "declare bench.in");
    amqp_queue_purge(c, CONSUME_CH, amqp_cstring_bytes("bench.in")); die_on(amqp_get_rpc_reply(c), "purge");
    amqp_exchange_declare(c, CONSUME_CH, amqp_cstring_bytes("bench.out"), amqp_cstring_bytes("fanout"), 0, 0, 0, 0,
                          amqp_empty_table);
    die_on(amqp_get_rpc_reply(c), "declare bench.out");
    amqp_table_entry_t e[2];
    e[0].key = amqp_cstring_bytes("x-max-length"); e[0].value.kind = AMQP_FIELD_KIND_I64; e[0].value.value.i64 = 1000;
    e[1].key = amqp_cstring_bytes("x-overflow"); e[1].value.kind = AMQP_FIELD_KIND_UTF8;
    e[1].value.value.bytes = amqp_cstring_bytes("drop-head");
    amqp_table_t args = {2, e};
    amqp_queue_declare(c, CONSUME_CH, amqp_cstring_bytes("bench.sink"), 0, 0, 0, 0, args);
    die_on(amqp_get_rpc_reply(c), "declare bench.sink");
    amqp_queue_bind(c, CONSUME_CH, amqp_cstring_bytes("bench.sink"), amqp_cstring_bytes("bench.out"),
                    amqp_cstring_bytes(""), amqp_empty_table);
    die_on(amqp_get_rpc_reply(c), "bind");

    // Prefill (not timed), pipelined confirms in windows of 5000.
    char body[128];
    amqp_basic_properties_t props;
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.delivery_mode = 1;
    props.content_type = amqp_cstring_bytes("application/json");
    for (long i = 1; i <= total; i++) {
        int n = snprintf(body, sizeof body, "{\"id\":%ld,\"amount\":\"250.50\",\"currency\":\"BDT\"}", i);
        amqp_bytes_t b = {(size_t)n, body};
        if (amqp_basic_publish(c, PUBLISH_CH, amqp_cstring_bytes(""), amqp_cstring_bytes("bench.in"), 0, 0, &props, b)
            != AMQP_STATUS_OK) { fprintf(stderr, "prefill publish failed\n"); return 1; }
        if (i % 5000 == 0 || i == total) wait_confirms(c, (uint64_t)i);
    }
    uint64_t seq = (uint64_t)total;  // publish sequence continues on the same channel

    amqp_basic_qos(c, CONSUME_CH, 0, (uint16_t)prefetch, 0); die_on(amqp_get_rpc_reply(c), "qos");
    amqp_basic_consume(c, CONSUME_CH, amqp_cstring_bytes("bench.in"), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    die_on(amqp_get_rpc_reply(c), "consume");

    // ring of (publish seq -> delivery tag), sized to the prefetch window.
    size_t ring = (size_t)prefetch * 4 + 16;
    uint64_t *tags = calloc(ring, sizeof(uint64_t));
    uint64_t first_unconfirmed = seq + 1;
    long done = 0;
    double start = now_s();
    while (done < total) {
        amqp_frame_t f;
        if (amqp_simple_wait_frame(c, &f) != AMQP_STATUS_OK) { fprintf(stderr, "wait_frame failed\n"); return 1; }
        if (f.frame_type != AMQP_FRAME_METHOD) continue;
        if (f.payload.method.id == AMQP_BASIC_DELIVER_METHOD) {
            amqp_basic_deliver_t *d = f.payload.method.decoded;
            uint64_t dtag = d->delivery_tag;
            amqp_message_t m;
            die_on(amqp_read_message(c, f.channel, &m, 0), "read_message");
            if (amqp_basic_publish(c, PUBLISH_CH, amqp_cstring_bytes("bench.out"), amqp_cstring_bytes("out"), 0, 0,
                                   &m.properties, m.body) != AMQP_STATUS_OK) { fprintf(stderr, "publish\n"); return 1; }
            seq++;
            tags[seq % ring] = dtag;
            amqp_destroy_message(&m);
        } else if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            amqp_basic_ack_t *a = f.payload.method.decoded;
            uint64_t upto = a->delivery_tag;
            uint64_t from = a->multiple ? first_unconfirmed : upto;
            for (uint64_t q = from; q <= upto; q++) {
                amqp_basic_ack(c, CONSUME_CH, tags[q % ring], 0);
                done++;
            }
            if (upto + 1 > first_unconfirmed) first_unconfirmed = upto + 1;
        }
        amqp_maybe_release_buffers(c);
    }
    double seconds = now_s() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("c messages=%ld seconds=%.3f rate=%.0f peak_rss_kb=%ld\n", done, seconds, done / seconds, ru.ru_maxrss);
    amqp_channel_close(c, CONSUME_CH, AMQP_REPLY_SUCCESS);
    amqp_channel_close(c, PUBLISH_CH, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
    free(tags);
    return 0;
}
