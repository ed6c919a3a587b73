//! tonic on h2proto-tokio: a tonic-generated gRPC server (the echo service of
//! `tests/proto`) served by [`ServiceHandler`], called by tonic's own client (hyper) and by
//! the same generated client over [`pool::Client`](h2proto_tokio::pool::Client): unary,
//! server, client and bidirectional streaming, messages of several MiB, error statuses in
//! trailers (trailers-only and after data), deadlines from `grpc-timeout`. The pooled
//! client also calls tonic's own server, so both halves meet hyper's gRPC.

mod example_server;
mod support;

use bytes::Bytes;
use h2proto_test_proto::{EchoClient, EchoReply, EchoRequest, EchoServer, EchoService};
use h2proto_tokio::service::{GrpcTimeout, ServiceHandler};
use std::net::SocketAddr;
use std::time::Duration;
use support::{pattern, within};
use tokio_stream::StreamExt;
use tonic::client::GrpcService;
use tonic::{Code, Request};

/// Messages up to this size pass (tonic's default limit is 4 MiB).
const MAX_MESSAGE: usize = 16 << 20;

type StdError = Box<dyn std::error::Error + Send + Sync>;

fn echo_server() -> EchoServer<EchoService> {
    EchoServer::new(EchoService)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
}

/// The echo service on h2proto, with deadlines, on an ephemeral port.
async fn serve_on_h2proto() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = ServiceHandler::new(GrpcTimeout::new(echo_server(), None));
    tokio::spawn(h2proto_tokio::server::serve(listener, handler));
    addr
}

/// The same service on tonic's own server (hyper).
async fn serve_on_tonic() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(echo_server())
            .serve_with_incoming(incoming),
    );
    addr
}

/// tonic's client over hyper.
async fn hyper_client(addr: SocketAddr) -> EchoClient<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    EchoClient::new(channel)
}

/// tonic's generated client over the pooled h2proto client, as it is.
fn pool_client(addr: SocketAddr) -> EchoClient<h2proto_tokio::pool::Client> {
    let origin = format!("http://{addr}").parse().unwrap();
    EchoClient::with_origin(h2proto_tokio::pool::Client::new(), origin)
}

fn request(payload: Bytes) -> EchoRequest {
    EchoRequest { payload, ..EchoRequest::default() }
}

/// Every kind of call, through whichever client. `deadline`: what a call outliving its
/// `grpc-timeout` ends with, for a client that leaves the deadline to the server.
async fn exercise<T>(client: EchoClient<T>, deadline: Option<Code>)
where
    T: GrpcService<tonic::body::Body> + Clone,
    T::Error: Into<StdError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<StdError> + Send,
{
    let mut client =
        client.max_decoding_message_size(MAX_MESSAGE).max_encoding_message_size(MAX_MESSAGE);

    // Unary, small and 6 MiB each way.
    let reply = client.unary(request(Bytes::from_static(b"ping"))).await.unwrap().into_inner();
    assert_eq!(reply, EchoReply { payload: Bytes::from_static(b"ping"), index: 0, total: 4 });
    let big = pattern(6 << 20);
    let reply = client.unary(request(big.clone())).await.unwrap().into_inner();
    assert!(reply.payload == big, "6 MiB echoed");

    // Unary calls at once on one client.
    let calls = (0..32u8).map(|i| {
        let mut client = client.clone();
        async move {
            let payload = Bytes::from(vec![i; 1000 + usize::from(i)]);
            let reply = client.unary(request(payload.clone())).await.unwrap().into_inner();
            assert!(reply.payload == payload, "call {i}");
        }
    });
    futures_util::future::join_all(calls).await;

    // Server streaming: 100 small replies, then 3 of 5 MiB.
    let asked = EchoRequest { count: 100, ..request(Bytes::from_static(b"tick")) };
    let replies: Vec<EchoReply> =
        client.server_stream(asked).await.unwrap().into_inner().map(Result::unwrap).collect().await;
    assert_eq!(replies.len(), 100);
    assert!(replies.iter().enumerate().all(|(i, r)| r.index as usize == i && r.payload == "tick"));
    let big = pattern(5 << 20);
    let asked = EchoRequest { count: 3, ..request(big.clone()) };
    let mut stream = client.server_stream(asked).await.unwrap().into_inner();
    let mut count = 0;
    while let Some(reply) = stream.message().await.unwrap() {
        assert!(reply.payload == big);
        count += 1;
    }
    assert_eq!(count, 3);

    // Client streaming: 4 messages of 3 MiB and a small last one.
    let mut sent: Vec<EchoRequest> = (0..4).map(|_| request(pattern(3 << 20))).collect();
    sent.push(request(Bytes::from_static(b"last")));
    let reply = client.client_stream(tokio_stream::iter(sent)).await.unwrap().into_inner();
    assert_eq!((reply.index, reply.total), (5, 4 * (3 << 20) + 4));
    assert_eq!(reply.payload, "last");

    // Bidirectional, in lockstep: each reply comes before the next request is sent.
    let (tx, rx) = tokio::sync::mpsc::channel::<EchoRequest>(1);
    let mut replies =
        client.bidi(tokio_stream::wrappers::ReceiverStream::new(rx)).await.unwrap().into_inner();
    for i in 0..50u32 {
        let payload = if i == 25 { pattern(2 << 20) } else { Bytes::from(format!("turn {i}")) };
        tx.send(request(payload.clone())).await.unwrap();
        let reply = replies.message().await.unwrap().expect("a reply per request");
        assert_eq!(reply.index, i);
        assert!(reply.payload == payload);
    }
    drop(tx);
    assert!(replies.message().await.unwrap().is_none(), "the stream ends with ours");

    // Error statuses: trailers-only (unary) ...
    let failing = EchoRequest {
        fail_code: Code::NotFound as i32,
        fail_message: "no such echo".into(),
        ..EchoRequest::default()
    };
    let status = client.unary(failing.clone()).await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::NotFound, "no such echo"));
    let status = client.server_stream(failing).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // ... and in the trailers after replies (bidi: two good, then a failure).
    let mut sent: Vec<EchoRequest> =
        vec![request(Bytes::from_static(b"a")), request(Bytes::from_static(b"b"))];
    sent.push(EchoRequest {
        fail_code: Code::PermissionDenied as i32,
        fail_message: "not this one".into(),
        ..EchoRequest::default()
    });
    let mut replies = client.bidi(tokio_stream::iter(sent)).await.unwrap().into_inner();
    assert_eq!(replies.message().await.unwrap().unwrap().payload, "a");
    assert_eq!(replies.message().await.unwrap().unwrap().payload, "b");
    let status = replies.message().await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::PermissionDenied, "not this one"));
    // An error status from a client-streaming call.
    let sent =
        vec![EchoRequest { fail_code: Code::InvalidArgument as i32, ..EchoRequest::default() }];
    let status = client.client_stream(tokio_stream::iter(sent)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // A deadline: the server gives up on a call that outlives its grpc-timeout.
    if let Some(code) = deadline {
        let mut slow =
            Request::new(EchoRequest { delay_ms: 30_000, ..request(Bytes::from_static(b"zzz")) });
        slow.set_timeout(Duration::from_millis(200));
        let status = client.unary(slow).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        // The connection goes on.
        let reply = client.unary(request(Bytes::from_static(b"after"))).await.unwrap();
        assert_eq!(reply.into_inner().payload, "after");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_hyper_client_against_tonic_on_h2proto() {
    within(async {
        let addr = serve_on_h2proto().await;
        // tonic's channel enforces the grpc-timeout itself (CANCELLED, "Timeout expired"),
        // at the moment the server would: the server's side is checked below.
        exercise(hyper_client(addr).await, None).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_deadline_reaches_tonics_hyper_client_as_deadline_exceeded() {
    within(async {
        // The server's own limit, shorter than the client's grpc-timeout.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limit = Some(Duration::from_millis(100));
        let handler = ServiceHandler::new(GrpcTimeout::new(echo_server(), limit));
        tokio::spawn(h2proto_tokio::server::serve(listener, handler));
        let mut client = hyper_client(addr).await;
        let mut slow = Request::new(EchoRequest { delay_ms: 30_000, ..EchoRequest::default() });
        slow.set_timeout(Duration::from_secs(20));
        let status = client.unary(slow).await.unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        let reply = client.unary(request(Bytes::from_static(b"quick"))).await.unwrap();
        assert_eq!(reply.into_inner().payload, "quick");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_client_over_the_pool_client_against_tonic_on_h2proto() {
    within(async {
        let addr = serve_on_h2proto().await;
        exercise(pool_client(addr), Some(Code::DeadlineExceeded)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_client_over_the_pool_client_against_tonics_own_server() {
    within(async {
        let addr = serve_on_tonic().await;
        // tonic's server ends an expired call with CANCELLED ("Timeout expired"), its own
        // choice; `GrpcTimeout` answers DEADLINE_EXCEEDED as the gRPC status list says.
        exercise(pool_client(addr), Some(Code::Cancelled)).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tonic_echo_example_answers_both_clients() {
    // Built first: the time limit is for serving, not for compiling.
    example_server::build("tonic_echo");
    within(async {
        example_server::check_help_and_version("tonic_echo");
        let server = example_server::start("tonic_echo", &[]);
        exercise(pool_client(server.addr), Some(Code::DeadlineExceeded)).await;
        exercise(hyper_client(server.addr).await, None).await;
    })
    .await;
}
