@testable import AMQP
import Testing

/// Every transition of the connection's life, without a broker or a thread.
@Suite struct ConnectionStateMachineTests {
    private let lost: [ConnectionStateMachine.Action] = [
        .handOverDeliveries, .dropSocket, .failUnconfirmedPublishes(.connectionLost), .announce(.disconnected),
    ]

    @Test func aNewConnectionIsOpenAndServesEverything() {
        let machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.state == .open)
        #expect(machine.canPublish && machine.canRunRPC && machine.isConnected && !machine.isClosing)
        #expect(machine.shouldSendSettlement(ofEpoch: 0))
    }

    @Test func aLostConnectionFailsUnconfirmedPublishesAndSchedulesTheFirstReconnect() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.connectionLost() == lost + [.waitThenReconnect(attempt: 0)])
        #expect(machine.state == .reconnecting(failedAttempts: 0))
        #expect(!machine.canPublish && !machine.canRunRPC, "publishes and calls wait for the reconnect")
        #expect(machine.epoch == 1)
        #expect(!machine.shouldSendSettlement(ofEpoch: 0), "a delivery of the dropped connection is stale")
        #expect(machine.connectionLost() == [], "a second report of the same loss does nothing")
    }

    @Test func failedReconnectsBackOffAttemptByAttemptAndSuccessCountsThem() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = machine.connectionLost()
        #expect(machine.reconnectFailed() == [.waitThenReconnect(attempt: 1)])
        #expect(machine.reconnectFailed() == [.waitThenReconnect(attempt: 2)])
        #expect(machine.state == .reconnecting(failedAttempts: 2))
        #expect(machine.reconnectSucceeded() == [.announce(.reconnected(attempts: 3))])
        #expect(machine.state == .open)
        #expect(machine.canPublish)
        #expect(machine.shouldSendSettlement(ofEpoch: 1), "deliveries of the new connection are current")
        #expect(!machine.shouldSendSettlement(ofEpoch: 0))
    }

    @Test func reconnectingGivesUpAfterThePolicysAttemptsAndFailsEverything() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: 2)
        _ = machine.connectionLost()
        #expect(machine.reconnectFailed() == [.waitThenReconnect(attempt: 1)])
        #expect(machine.reconnectFailed() == [.handOverDeliveries, .announce(.gaveUp), .finishConsumers(failed: true),
                                              .failWaitingCommands(failed: true)])
        #expect(machine.state == .closed)
        #expect(machine.isClosing)
        #expect(machine.stoppedServing() == [.handOverDeliveries, .failUnconfirmedPublishes(.closed),
                                             .finishConsumers(failed: false), .failWaitingCommands(failed: false),
                                             .finishEvents, .resumeCloseWaiters],
                "no socket left to close")
    }

    @Test func reconnectEventsOutsideReconnectingAreIgnored() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: 1)
        #expect(machine.reconnectFailed() == [])
        #expect(machine.reconnectSucceeded() == [])
        #expect(machine.state == .open)
    }

    @Test func closingAnOpenConnectionCancelsConsumersAwaitsConfirmsThenClosesTheSocket() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.closeRequested() == [], "the current pass finishes first")
        #expect(machine.state == .closing(connected: true))
        #expect(machine.canPublish, "commands queued before close() in the same pass still run")
        #expect(machine.closeRequested() == [])
        #expect(machine.stoppedServing() == [
            .handOverDeliveries, .cancelConsumers, .awaitOutstandingConfirms, .closeSocket,
            .failUnconfirmedPublishes(.closed), .finishConsumers(failed: false), .failWaitingCommands(failed: false),
            .finishEvents, .resumeCloseWaiters,
        ])
        #expect(machine.state == .closed)
        #expect(!machine.canPublish && !machine.shouldSendSettlement(ofEpoch: 0))
    }

    @Test func closingWhileReconnectingHasNoSocketToClose() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = machine.connectionLost()
        #expect(machine.closeRequested() == [])
        #expect(machine.state == .closing(connected: false))
        #expect(machine.reconnectFailed() == [], "a close stops the reconnects")
        #expect(machine.stoppedServing() == [.handOverDeliveries, .failUnconfirmedPublishes(.closed),
                                             .finishConsumers(failed: false), .failWaitingCommands(failed: false),
                                             .finishEvents, .resumeCloseWaiters])
    }

    @Test func aConnectionLostWhileAwaitingConfirmsOnCloseFailsThemAndDoesNotReconnect() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = machine.closeRequested()
        #expect(machine.connectionLost() == lost)
        #expect(machine.state == .closing(connected: false))
        #expect(machine.epoch == 1)
        #expect(machine.connectionLost() == [])
    }

    @Test func brokerFlowControlHoldsPublishesButNotOtherCalls() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.brokerBlocked(reason: "low on memory") == [.announce(.blocked(reason: "low on memory"))])
        #expect(!machine.canPublish)
        #expect(machine.canRunRPC)
        #expect(machine.shouldSendSettlement(ofEpoch: 0), "acks still flow while publishing is blocked")
        #expect(machine.brokerUnblocked() == [.announce(.unblocked)])
        #expect(machine.canPublish)
    }

    @Test func aLostConnectionLiftsTheBlockAndBlocksWhileDisconnectedAreIgnored() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = machine.brokerBlocked(reason: "disk")
        _ = machine.connectionLost()
        #expect(!machine.isBlocked, "a fresh connection starts unblocked")
        #expect(machine.brokerBlocked(reason: "disk") == [])
        #expect(machine.brokerUnblocked() == [])
        _ = machine.reconnectSucceeded()
        #expect(machine.canPublish)
    }

    @Test func theBrokerClosingThePublishingChannelFailsItsUnconfirmedPublishesAndReopensIt() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.channelClosed(.publishing, number: 1, replyCode: 404, replyText: "NOT_FOUND") == [
            .failUnconfirmedPublishes(.channelClosed(channel: 1, replyCode: 404, replyText: "NOT_FOUND")),
            .reopenPublishChannel,
        ])
        #expect(machine.epoch == 0, "deliveries are on another channel")
        #expect(machine.state == .open)
    }

    @Test func aNackedPublishingChannelIsReplacedOnceNothingWaitsForAConfirmOnIt() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.publishNacked(unsettled: 2) == [], "two publishes still wait for their confirms on it")
        #expect(machine.publishChannelSuspect)
        #expect(machine.publishesSettled(unsettled: 1) == [])
        #expect(machine.publishesSettled(unsettled: 0) == [.recyclePublishChannel],
                "a late ack of the old channel can no longer settle a publish of the fresh one")
        #expect(!machine.publishChannelSuspect)
        #expect(machine.publishesSettled(unsettled: 0) == [], "replaced once per nack")
        #expect(machine.publishNacked(unsettled: 0) == [.recyclePublishChannel], "nothing in flight: at once")
        #expect(machine.epoch == 0 && machine.state == .open, "deliveries are on another channel")
    }

    @Test func aNackedChannelThatEndsAnotherWayIsNotReplacedTwice() {
        var closed = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = closed.publishNacked(unsettled: 1)
        _ = closed.channelClosed(.publishing, number: 1, replyCode: 406, replyText: "PRECONDITION_FAILED")
        #expect(closed.publishesSettled(unsettled: 0) == [], "the broker's close already gave it a fresh channel")

        var lost = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = lost.publishNacked(unsettled: 1)
        _ = lost.connectionLost()
        #expect(lost.publishNacked(unsettled: 0) == [], "no channel while disconnected")
        _ = lost.reconnectSucceeded()
        #expect(lost.publishesSettled(unsettled: 0) == [], "the reconnect opened fresh channels")
    }

    @Test func theBrokerClosingTheConsumingChannelMakesItsDeliveriesStaleAndResubscribes() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.channelClosed(.consuming, number: 2, replyCode: 406, replyText: "PRECONDITION_FAILED") == [
            .handOverDeliveries, .reopenConsumeChannelAndResubscribe,
        ])
        #expect(machine.epoch == 1)
        #expect(!machine.shouldSendSettlement(ofEpoch: 0), "its deliveries went back to their queues")
        #expect(machine.shouldSendSettlement(ofEpoch: 1))
    }

    @Test func theBrokerClosingAnotherChannelReopensIt() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.channelClosed(.other, number: 3, replyCode: 404, replyText: "NOT_FOUND") == [.reopenChannel(3)])
        #expect(machine.epoch == 0)
    }

    @Test func aChannelCloseWithoutAConnectionIsIgnored() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        _ = machine.connectionLost()
        #expect(machine.channelClosed(.consuming, number: 2, replyCode: 406, replyText: "") == [])
        #expect(machine.epoch == 1)
    }

    @Test func aConsumerTheBrokerCancelsEndsAfterItsBufferedDeliveries() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.brokerCancelledConsumer(tag: "c1") == [.handOverDeliveries, .endConsumer(tag: "c1")])
        #expect(machine.epoch == 0, "the other consumers' deliveries stay current")
    }

    @Test func aConsumerWhoseQueueIsGoneOnResubscribeEndsAndTheOthersMoveToAFreshChannel() {
        var machine = ConnectionStateMachine(maximumReconnectAttempts: nil)
        #expect(machine.resubscribeFailed(tag: "c2") == [.endConsumer(tag: "c2"),
                                                         .reopenConsumeChannelAndResubscribe])
        #expect(machine.epoch == 1, "deliveries of the closed channel must not be settled on the fresh one")
    }
}
