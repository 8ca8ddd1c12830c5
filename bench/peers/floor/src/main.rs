//! The benchmark floor: the least a relay can do. `POST /publish` sends its
//! body as one text frame to every WebSocket connected on `/ws`; nothing is
//! stored, nobody is authenticated. Listens on 127.0.0.1 only, on `PORT`.

use std::io;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[tokio::main]
async fn main() -> io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("floor relay on {}", listener.local_addr()?);
    let (tx, _) = broadcast::channel::<Utf8Bytes>(4096);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut head = [0u8; 4];
            let is_get = matches!(stream.peek(&mut head).await, Ok(4) if &head == b"GET ");
            let _ = if is_get {
                subscriber(stream, tx.subscribe()).await
            } else {
                publisher(stream, tx).await
            };
        });
    }
}

/// A WebSocket: every published body goes out as it comes; pings are
/// answered by tungstenite itself.
async fn subscriber(stream: TcpStream, mut rx: broadcast::Receiver<Utf8Bytes>) -> io::Result<()> {
    // tungstenite reads into a 128 KiB buffer by default; a relay of short
    // chat frames needs a page.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config))
        .await
        .map_err(io::Error::other)?;
    let (mut sink, mut source) = ws.split();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Ok(text) => sink.send(Message::Text(text)).await.map_err(io::Error::other)?,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            incoming = source.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ok(()),
                Some(Ok(_)) => {}
            },
        }
    }
}

/// HTTP/1.1 with keep-alive, just enough for `POST /publish`.
async fn publisher(mut stream: TcpStream, tx: broadcast::Sender<Utf8Bytes>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if read_more(&mut stream, &mut buf).await? == 0 {
                return Ok(());
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            if read_more(&mut stream, &mut buf).await? == 0 {
                return Ok(());
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        let reply: &[u8] = if head.starts_with("POST /publish ") {
            match String::from_utf8(body) {
                Ok(text) => {
                    let _ = tx.send(Utf8Bytes::from(text));
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
                }
                Err(_) => b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            }
        } else {
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        };
        stream.write_all(reply).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}
