// The send buffer of CRabbitMQShims.h: one write per run of frames instead of one per frame.
#include "CRabbitMQShims.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

// librabbitmq 0.11's socket classes (librabbitmq/amqp_socket.h and amqp_private.h, which are not installed).
// A socket object starts with a pointer to its class; librabbitmq reaches the socket only through it
// (amqp_socket.c), and only the public amqp_tcp_socket_set_sockfd / amqp_ssl_socket_set_* compare it with their
// own class, which is why the buffer is installed after those calls and after the socket is open.
struct crmq_socket_class {
    ssize_t (*send)(void *, const void *, size_t, int);
    ssize_t (*recv)(void *, void *, size_t, int);
    int (*open)(void *, const char *, int, const struct timeval *);
    int (*close)(void *, int);  // amqp_socket_close_enum
    int (*get_sockfd)(void *);
    void (*delete)(void *);
};
struct crmq_socket {
    const struct crmq_socket_class *klass;
};
enum { CRMQ_STATUS_NEEDREAD = -0x1301, CRMQ_STATUS_NEEDWRITE = -0x1302 };

/// Bytes held before they are written anyway (a run of large messages does not grow the buffer without bound).
enum { CRMQ_SEND_BUFFER_LIMIT = 256 * 1024 };

struct crmq_send_buffer {
    struct crmq_socket_class klass;  // first: the socket's class pointer points here
    const struct crmq_socket_class *original;
    int holding;
    unsigned char *bytes;
    size_t count;
    size_t capacity;
};

static struct crmq_send_buffer *buffer_of(void *socket) {
    return (struct crmq_send_buffer *)((struct crmq_socket *)socket)->klass;
}

static ssize_t buffered_send(void *socket, const void *data, size_t length, int flags);

/// The socket's buffer, or NULL when none is installed on it.
static struct crmq_send_buffer *installed_buffer(amqp_socket_t *socket) {
    const struct crmq_socket_class *klass = ((struct crmq_socket *)socket)->klass;
    return klass && klass->send == buffered_send ? buffer_of(socket) : NULL;
}

/// Writes `count` bytes through the original class, waiting (poll) while the socket cannot take them, as
/// librabbitmq's amqp_try_send does for a publish (no deadline). Returns 0 or a negative librabbitmq status.
static int write_all(struct crmq_send_buffer *b, void *socket, const unsigned char *bytes, size_t count) {
    size_t offset = 0;
    while (offset < count) {
        // The same pointer and length after a would-block: what SSL_write requires of a retry.
        ssize_t written = b->original->send(socket, bytes + offset, count - offset, 0);
        if (written > 0) {
            offset += (size_t)written;
            continue;
        }
        if (written != CRMQ_STATUS_NEEDWRITE && written != CRMQ_STATUS_NEEDREAD) {
            return written < 0 ? (int)written : AMQP_STATUS_SOCKET_ERROR;
        }
        struct pollfd wait = {.fd = b->original->get_sockfd(socket),
                              .events = written == CRMQ_STATUS_NEEDWRITE ? POLLOUT : POLLIN};
        if (poll(&wait, 1, -1) < 0 && errno != EINTR) { return AMQP_STATUS_SOCKET_ERROR; }
    }
    return 0;
}

/// Writes the held bytes; on failure drops them and shuts the socket down, so the next read reports the loss.
static int flush(struct crmq_send_buffer *b, void *socket) {
    int status = write_all(b, socket, b->bytes, b->count);
    b->count = 0;
    if (status != 0) {
        int fd = b->original->get_sockfd(socket);
        if (fd >= 0) { shutdown(fd, SHUT_RDWR); }
    }
    return status;
}

static ssize_t buffered_send(void *socket, const void *data, size_t length, int flags) {
    struct crmq_send_buffer *b = buffer_of(socket);
    if (!b->holding) { return b->original->send(socket, data, length, flags); }
    if (b->count + length > CRMQ_SEND_BUFFER_LIMIT) {
        int status = flush(b, socket);
        if (status != 0) { return status; }
        if (length > CRMQ_SEND_BUFFER_LIMIT) {
            status = write_all(b, socket, data, length);
            return status != 0 ? status : (ssize_t)length;
        }
    }
    if (b->count + length > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 16 * 1024;
        while (capacity < b->count + length) { capacity *= 2; }
        unsigned char *grown = realloc(b->bytes, capacity);
        if (!grown) { return AMQP_STATUS_NO_MEMORY; }
        b->bytes = grown;
        b->capacity = capacity;
    }
    memcpy(b->bytes + b->count, data, length);
    b->count += length;
    return (ssize_t)length;
}

static void buffered_delete(void *socket) {
    struct crmq_send_buffer *b = buffer_of(socket);
    b->original->delete(socket);  // closes and frees the socket; never reads its class again
    free(b->bytes);
    free(b);
}

int crmq_send_buffer_install(amqp_socket_t *socket) {
    struct crmq_socket *base = (struct crmq_socket *)socket;
    const struct crmq_socket_class *original = base->klass;
    if (installed_buffer(socket) || !original || !original->send || !original->recv || !original->close
        || !original->get_sockfd || !original->delete) {
        return -1;
    }
    // Installed on an open socket: its class must name a descriptor.
    if (original->get_sockfd(socket) < 0) { return -1; }
    struct crmq_send_buffer *b = calloc(1, sizeof(*b));
    if (!b) { return -1; }
    b->klass = *original;
    b->klass.send = buffered_send;
    b->klass.delete = buffered_delete;
    b->original = original;
    base->klass = &b->klass;
    return 0;
}

void crmq_send_buffer_hold(amqp_socket_t *socket) {
    struct crmq_send_buffer *b = installed_buffer(socket);
    if (b) { b->holding = 1; }
}

int crmq_send_buffer_release(amqp_socket_t *socket) {
    struct crmq_send_buffer *b = installed_buffer(socket);
    if (!b) { return 0; }
    b->holding = 0;
    return b->count ? flush(b, socket) : 0;
}
