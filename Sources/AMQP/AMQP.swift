// AMQP client over librabbitmq: see README.
