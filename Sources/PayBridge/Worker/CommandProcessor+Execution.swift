import PayBridgeContract
import PayBridgeRules
import PaymentVocabulary
import ProviderCore

extension CommandProcessor {
    /// The provider call a delivery asks for (the rules admitted it): a command's execution, a callback
    /// notification's confirmation, a reconciliation check's status read, a query's fetch. The provider's failures come back as
    /// values and are counted; only what else the executor throws (cancellation) is thrown.
    func execute(_ kind: DeliveryKind, executor: any PaymentCommandExecutor, delivery: CommandDelivery,
                 log: CommandLog) async throws -> DeliveryExecution {
        switch kind {
        case .command(.success(let command)):
            return .command(command, try await execute(command, executor: executor, delivery: delivery, log: log))
        case .notification(let notification):
            do {
                return .notification(notification, .success(try await executor.confirm(notification)))
            } catch let error as ProviderError {
                metrics.providerError(error)
                return .notification(notification, .failure(error))
            }
        case .check(.success(let check)):
            do {
                return .check(check, .success(try await executor.check(check)))
            } catch let error as ProviderError {
                metrics.providerError(error)
                return .check(check, .failure(error))
            }
        case .query(.success(let query)):
            let started = ContinuousClock.now
            defer { metrics.providerLatency(operation: "payment_methods", account: query.account, .now - started) }
            do {
                return .query(query, .success(try await executor.paymentMethods(query)))
            } catch let error as ProviderError {
                metrics.providerError(error)
                return .query(query, .failure(error))
            }
        case .command(.failure), .check(.failure), .query(.failure):
            preconditionFailure("the rules settle what cannot be read without a provider call")
        }
    }

    /// Runs the executor once per command id and payment id at a time (``CommandSingleFlight``), status-first
    /// where the rules say so. A concurrent delivery of the same command id gets the running execution's result.
    /// Throws only what the executor throws besides ``ProviderError`` and ``CommandDataError``.
    private func execute(
        _ command: PaymentCommand, executor: any PaymentCommandExecutor, delivery: CommandDelivery, log: CommandLog
    ) async throws -> CommandExecution {
        let keys = CommandSingleFlight<CommandExecution>.Keys(commandId: command.id, paymentId: command.paymentId)
        let (execution, passage) = try await flights.run(keys) { afterAnother in
            try await executeNow(command, executor: executor, delivery: delivery, afterAnother: afterAnother, log: log)
        }
        if passage == .reused {
            log.info("same command id executing concurrently: its result is reused, the provider is not called")
        }
        return execution
    }

    /// One execution (the single-flight table admitted it). `afterAnother`: another execution for this command id
    /// or payment ran first, so a create reads the status first.
    private func executeNow(
        _ command: PaymentCommand, executor: any PaymentCommandExecutor, delivery: CommandDelivery,
        afterAnother: Bool, log: CommandLog
    ) async throws -> CommandExecution {
        let seenBefore = memory.withLock { $0.seen(commandId: command.id) } || afterAnother
        if seenBefore { log.info("command id or payment seen before: status-first") }
        let statusFirst = rules.statusFirst(command, delivery: delivery, seenBefore: seenBefore)
        let started = ContinuousClock.now
        let account = command.account ?? .default
        defer { metrics.providerLatency(operation: command.operation, account: account, .now - started) }
        do {
            return .answered(try await executor.execute(command, statusFirst: statusFirst))
        } catch let error as ProviderError {
            metrics.providerError(error)
            return .providerFailed(error)
        } catch let error as CommandDataError {
            return .invalidData(error)
        }
    }
}
