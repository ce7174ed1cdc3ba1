#include "CRabbitMQShims.h"
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdint.h>

amqp_rpc_reply_t crmq_login(amqp_connection_state_t state, const char *vhost, int channel_max, int frame_max,
                            int heartbeat_seconds, const char *user, const char *password,
                            const char *connection_name) {
    amqp_table_entry_t capabilities[5];
    const char *names[5] = {"consumer_cancel_notify", "connection.blocked", "authentication_failure_close",
                            "publisher_confirms", "basic.nack"};
    for (int i = 0; i < 5; i++) {
        capabilities[i].key = amqp_cstring_bytes(names[i]);
        capabilities[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
        capabilities[i].value.value.boolean = 1;
    }
    amqp_table_entry_t entries[3];
    entries[0].key = amqp_cstring_bytes("capabilities");
    entries[0].value.kind = AMQP_FIELD_KIND_TABLE;
    entries[0].value.value.table.num_entries = 5;
    entries[0].value.value.table.entries = capabilities;
    entries[1].key = amqp_cstring_bytes("connection_name");
    entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[1].value.value.bytes = amqp_cstring_bytes(connection_name);
    entries[2].key = amqp_cstring_bytes("product");
    entries[2].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[2].value.value.bytes = amqp_cstring_bytes("PayBridge AMQP (librabbitmq)");
    amqp_table_t properties;
    properties.num_entries = 3;
    properties.entries = entries;
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat_seconds, &properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

int crmq_poll_socket_and_wake(int socket_fd, int wake_fd, int timeout_ms) {
    struct pollfd fds[2];
    memset(fds, 0, sizeof(fds));
    fds[0].fd = socket_fd;
    fds[0].events = POLLIN;
    fds[1].fd = wake_fd;
    fds[1].events = POLLIN;
    int n = poll(fds, 2, timeout_ms);
    if (n < 0) return -1;
    if (n == 0) return 0;
    int ready = 0;
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) ready |= 1;
    if (fds[1].revents & POLLIN) ready |= 2;
    return ready;
}

int crmq_wake_fd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void crmq_wake_fd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof(one));
    (void)ignored;
}

void crmq_wake_fd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof(value));
    (void)ignored;
}
