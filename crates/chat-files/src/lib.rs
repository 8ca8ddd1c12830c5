//! The file store of attachments behind the domain's [`FileStore`] port:
//! a local directory (the default) or an S3-compatible bucket, both through
//! the `object_store` crate. Writes are multipart uploads (parts of 5 MiB at
//! most in memory, nothing visible before `finish`); reads stream.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chat_domain::{FileDownload, FileError, FileStore, FileUpload};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};

/// Parts being uploaded at once per file.
const PARALLEL_PARTS: usize = 2;

/// Where an S3-compatible bucket is.
pub struct S3<'a> {
    pub bucket: &'a str,
    pub endpoint: Option<&'a str>,
    pub region: Option<&'a str>,
    /// Access key id and secret; `None`: from the environment.
    pub credentials: Option<(&'a str, &'a str)>,
}

/// An `object_store` as the domain's file store.
#[derive(Clone)]
pub struct ObjectFiles {
    store: Arc<dyn ObjectStore>,
}

fn err(e: object_store::Error) -> FileError {
    FileError(e.to_string())
}

fn path(key: &str) -> Result<ObjectPath, FileError> {
    ObjectPath::parse(key).map_err(|e| FileError(e.to_string()))
}

impl ObjectFiles {
    /// Files under a local directory (created if missing).
    pub fn local(dir: &Path) -> Result<Self, FileError> {
        std::fs::create_dir_all(dir).map_err(|e| FileError(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(err)?;
        Ok(Self {
            store: Arc::new(fs),
        })
    }

    /// Files in an S3-compatible bucket. Credentials are the given ones or
    /// come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, …); `endpoint` names a server other than
    /// AWS (path-style requests, and plain HTTP allowed when the endpoint
    /// says `http://`).
    pub fn s3(s: S3<'_>) -> Result<Self, FileError> {
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(s.bucket);
        if let Some(region) = s.region {
            b = b.with_region(region);
        }
        if let Some((id, secret)) = s.credentials {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        if let Some(endpoint) = s.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        Ok(Self {
            store: Arc::new(b.build().map_err(err)?),
        })
    }
}

#[async_trait]
impl FileStore for ObjectFiles {
    async fn create(&self, key: &str) -> Result<Box<dyn FileUpload>, FileError> {
        let upload = self.store.put_multipart(&path(key)?).await.map_err(err)?;
        Ok(Box::new(Upload(WriteMultipart::new(upload))))
    }

    async fn open(&self, key: &str) -> Result<Option<Box<dyn FileDownload>>, FileError> {
        match self.store.get(&path(key)?).await {
            Ok(got) => Ok(Some(Box::new(Download {
                size: got.meta.size,
                stream: got.into_stream(),
            }))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), FileError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }
}

struct Upload(WriteMultipart);

#[async_trait]
impl FileUpload for Upload {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), FileError> {
        // Bounds what is buffered: at most this many parts in flight.
        self.0
            .wait_for_capacity(PARALLEL_PARTS)
            .await
            .map_err(err)?;
        self.0.write(&chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), FileError> {
        self.0.finish().await.map(|_| ()).map_err(err)
    }

    async fn abort(self: Box<Self>) {
        if let Err(e) = self.0.abort().await {
            tracing::debug!(error = %e, "aborting an upload");
        }
    }
}

struct Download {
    size: u64,
    stream: BoxStream<'static, object_store::Result<bytes::Bytes>>,
}

#[async_trait]
impl FileDownload for Download {
    fn size(&self) -> u64 {
        self.size
    }

    async fn next(&mut self) -> Option<Result<Vec<u8>, FileError>> {
        self.stream
            .next()
            .await
            .map(|r| r.map(|b| b.to_vec()).map_err(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_written_in_chunks_read_back_and_deleted_on_disk() {
        let dir = std::env::temp_dir().join(format!("chat-files-{}", std::process::id()));
        let files = ObjectFiles::local(&dir).expect("local");
        let mut up = files.create("t/s/a1").await.expect("create");
        up.write(b"hello ".to_vec()).await.expect("write");
        up.write(b"world".to_vec()).await.expect("write");
        assert!(
            files.open("t/s/a1").await.expect("open").is_none(),
            "nothing before finish"
        );
        up.finish().await.expect("finish");
        let mut down = files.open("t/s/a1").await.expect("open").expect("stored");
        assert_eq!(down.size(), 11);
        let mut got = Vec::new();
        while let Some(chunk) = down.next().await {
            got.extend(chunk.expect("chunk"));
        }
        assert_eq!(got, b"hello world");
        assert!(dir.join("t/s/a1").exists());
        files.delete("t/s/a1").await.expect("delete");
        files
            .delete("t/s/a1")
            .await
            .expect("deleting twice is fine");
        assert!(!dir.join("t/s/a1").exists());
        let aborted = files.create("t/s/a2").await.expect("create");
        aborted.abort().await;
        assert!(files.open("t/s/a2").await.expect("open").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
