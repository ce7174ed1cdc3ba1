// The AMQP client's API is made of these values (messages, properties, field tables, errors): a module that uses the
// connection uses them too. A module that only reads or builds messages (the worker's rules) imports `AMQPValues`
// alone and has no connection in reach.
@_exported import AMQPValues
