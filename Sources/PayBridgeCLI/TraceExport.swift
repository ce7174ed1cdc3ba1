import Logging
import PayBridge
import ServiceLifecycle
import Tracing
#if OTLPExporter
import OTel
#endif

/// The tracer `paybridge worker | callbacks | run` runs with, from OpenTelemetry's standard variables.
///
/// Spans are exported only when the environment asks for it: `OTEL_TRACES_EXPORTER=otlp`, or an OTLP endpoint
/// (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, and `OTEL_SDK_DISABLED` is not
/// `true`. (The OpenTelemetry default would export to localhost:4318 whenever nothing is set; a payment adapter that
/// logs a failed export per batch at 3 a.m. because nobody runs a collector helps no one.) Export goes through
/// swift-otel's OTLP/HTTP exporter, which reads the other `OTEL_*` variables itself (endpoint, headers, protocol,
/// sampler, `OTEL_SERVICE_NAME`, default `paybridge`). It is compiled in only with the package trait
/// `OTLPExporter` (`swift build --traits OTLPExporter`; the Dockerfile builds with it); without it, an export
/// request is logged as a warning and PayBridge keeps propagating trace context without exporting.
enum TraceExport {
    /// Whether the environment asks for spans to be exported.
    static func isRequested(_ environment: [String: String]) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if let exporter = environment["OTEL_TRACES_EXPORTER"]?.lowercased() { return exporter == "otlp" }
        return environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil
            || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
    }

    static var isCompiledIn: Bool {
        #if OTLPExporter
        true
        #else
        false
        #endif
    }

    /// The exporting tracer and the service that flushes it (run it beside the runtime), or `nil` when nothing is
    /// to be exported. Throws when swift-otel refuses its configuration (an invalid `OTEL_*` value).
    static func make(_ environment: [String: String], logger: Logger) throws -> (tracer: any Tracer, service: any Service)? {
        guard isRequested(environment) else { return nil }
        #if OTLPExporter
        var configuration = OTel.Configuration.default
        configuration.serviceName = "paybridge"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false  // PayBridge's metrics are Prometheus, on the admin port
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        logger.info("exporting spans over OTLP/HTTP (OTEL_* settings)")
        return (backend.factory, backend.service)
        #else
        logger.warning("""
            OTEL_* asks for span export, but this paybridge was built without the OTLPExporter trait: trace context \
            is propagated and logged, spans are not exported (build with `swift build --traits OTLPExporter`)
            """)
        return nil
        #endif
    }
}
