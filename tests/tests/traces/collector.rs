//! An OTLP/gRPC trace receiver inside the test: the services export to it
//! as to any collector, and the test reads back every span with the
//! `service.name` of the process that sent it.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{AnyValue, KeyValue, any_value::Value},
    trace::v1::Span,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

/// One exported span and the resource it came with.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The resource's `service.name`.
    pub service: String,
    pub resource: Vec<KeyValue>,
    pub span: Span,
}

impl Exported {
    pub fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    pub fn parent_span_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }

    /// The string value of the span attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        text(&self.span.attributes, key)
    }

    /// Every text the export carries about this span: its name, status
    /// message, attribute keys and values (nested ones included), its
    /// events' names and attributes, its links' attributes, and the
    /// resource's attributes.
    pub fn texts(&self) -> Vec<String> {
        let mut texts = vec![self.span.name.clone(), self.span.trace_state.clone()];
        if let Some(status) = &self.span.status {
            texts.push(status.message.clone());
        }
        let mut attributes: Vec<&KeyValue> = self.span.attributes.iter().collect();
        attributes.extend(&self.resource);
        for event in &self.span.events {
            texts.push(event.name.clone());
            attributes.extend(&event.attributes);
        }
        for link in &self.span.links {
            texts.push(link.trace_state.clone());
            attributes.extend(&link.attributes);
        }
        for attribute in attributes {
            key_value_texts(attribute, &mut texts);
        }
        texts.retain(|text| !text.is_empty());
        texts
    }
}

fn key_value_texts(attribute: &KeyValue, texts: &mut Vec<String>) {
    texts.push(attribute.key.clone());
    if let Some(value) = &attribute.value {
        value_texts(value, texts);
    }
}

fn value_texts(value: &AnyValue, texts: &mut Vec<String>) {
    match &value.value {
        Some(Value::StringValue(text)) => texts.push(text.clone()),
        Some(Value::BytesValue(bytes)) => texts.push(String::from_utf8_lossy(bytes).into_owned()),
        Some(Value::ArrayValue(array)) => {
            for value in &array.values {
                value_texts(value, texts);
            }
        }
        Some(Value::KvlistValue(list)) => {
            for attribute in &list.values {
                key_value_texts(attribute, texts);
            }
        }
        Some(Value::BoolValue(_) | Value::IntValue(_) | Value::DoubleValue(_)) | None => {}
        Some(other) => texts.push(format!("{other:?}")),
    }
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?
    {
        Value::StringValue(text) => Some(text),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The receiver: a tonic server on a free port of 127.0.0.1, stopped when
/// dropped.
#[derive(Debug)]
pub struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Exported>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Collector {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("a bound address");
        let spans = Arc::new(Mutex::new(Vec::new()));
        let receiver = Receiver(Arc::clone(&spans));
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(receiver))
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await
                .expect("the collector serves");
        });
        Self {
            addr,
            spans,
            server,
        }
    }

    /// The value for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Exported> {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Receiver(Arc<Mutex<Vec<Exported>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans
                .resource
                .map(|resource| resource.attributes)
                .unwrap_or_default();
            let service = text(&resource, "service.name")
                .unwrap_or_default()
                .to_owned();
            for span in resource_spans
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
            {
                received.push(Exported {
                    service: service.clone(),
                    resource: resource.clone(),
                    span,
                });
            }
        }
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}
