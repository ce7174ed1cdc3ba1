// Small C helpers for what Swift cannot call on librabbitmq directly.
// Why each exists is written at the declaration. Every symbol is prefixed `crmq_`.
#ifndef CRABBITMQ_SHIMS_H
#define CRABBITMQ_SHIMS_H

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#else
#include <amqp.h>
#endif

/// `amqp_login_with_properties` is variadic (SASL arguments), which Swift cannot call.
/// Logs in with SASL PLAIN and client properties that announce PayBridge's capabilities:
/// `consumer_cancel_notify`, `connection.blocked`, `authentication_failure_close`, `publisher_confirms`,
/// `basic.nack`, plus `connection_name` and `product`.
amqp_rpc_reply_t crmq_login(amqp_connection_state_t _Nonnull state,
                            const char *_Nonnull vhost,
                            int channel_max,
                            int frame_max,
                            int heartbeat_seconds,
                            const char *_Nonnull user,
                            const char *_Nonnull password,
                            const char *_Nonnull connection_name);

/// Waits up to `timeout_ms` for the socket or the wake-up fd to become readable (poll(2)).
/// Returns a bit set, 1: the socket is readable (or failed), 2: the wake fd is readable; 0 on timeout, -1 on error.
/// Why: librabbitmq has no way to be woken from a blocking wait; we poll both fds and only then call it.
int crmq_poll_socket_and_wake(int socket_fd, int wake_fd, int timeout_ms);

/// eventfd(2) helpers for waking the I/O thread out of poll(2); Swift's Glibc module does not export
/// <sys/eventfd.h>.
int crmq_wake_fd_create(void);
void crmq_wake_fd_signal(int fd);
void crmq_wake_fd_drain(int fd);

/// A send buffer for a librabbitmq socket (TCP or TLS), so that a run of publishes and acks costs one write
/// instead of one per frame (three per publish).
///
/// librabbitmq 0.11 writes every frame with its own send(2) (or SSL_write: one TLS record each) and has no
/// option to batch them. The socket object's first field points to its class, a table of six functions
/// (`librabbitmq/amqp_socket.h`, unchanged since 0.4); `crmq_send_buffer_install` gives the socket a copy of
/// that table whose `send` appends to a buffer while holding, and whose `delete` also frees the buffer.
/// Returns 0, or -1 when the socket does not look like a librabbitmq socket (nothing is changed then).
int crmq_send_buffer_install(amqp_socket_t *_Nonnull socket);

/// Starts holding: every send is buffered until `crmq_send_buffer_release`. Nothing may wait for a reply
/// while holding (the request would never leave). No-op on a socket without a buffer.
void crmq_send_buffer_hold(amqp_socket_t *_Nonnull socket);

/// Stops holding and writes what was buffered, in order, waiting for the socket to take it as librabbitmq's
/// own send does. Returns 0 (also without a buffer), or a negative librabbitmq status when the write failed:
/// the buffered bytes are dropped and the socket is shut down, so the connection's next read fails.
int crmq_send_buffer_release(amqp_socket_t *_Nonnull socket);

#endif
