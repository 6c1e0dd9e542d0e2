//! Job photos (S-SF-3). The assigned crew uploads survey and installation photos; they are
//! checked by content (JPEG or PNG, whatever the name or declared type says), bounded in bytes
//! and pixels, decoded and encoded again so that nothing but pixels survives (EXIF, GPS,
//! comments, embedded scripts), and stored under a random key outside any served folder. They
//! are served, as attachments with `nosniff`, to the job's owner, its crew, and staff who hold
//! a live grant to the customer's personal data.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::lifecycle::{JobState, Party};
use super::service::{Job, job_target};
use super::store::photo;
use crate::audit::{self, Action, Actor, Details};
use crate::files::FileStore;
use crate::ids::{JobId, PhotoId};
use crate::values::IdempotencyKey;
use crate::values::PhotoSubject;

/// Sides longer than this are refused (a 48-megapixel phone photo is 8,000 px wide).
pub const MAX_SIDE: u32 = 12_000;
/// Memory the decoder may use: bounds decompression bombs whatever their header says.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// Photos one job may hold.
pub const MAX_PER_JOB: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is not a JPEG or PNG image")]
    NotAnImage,
    #[error("the image is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the image is larger than {MAX_SIDE} pixels on a side")]
    TooManyPixels,
    #[error("photos can be added between the survey and the inspection")]
    WrongState,
    #[error("this job holds the most photos it can")]
    TooMany,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for PhotoError {
    fn from(e: DbErr) -> Self {
        PhotoError::Internal(e.into())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    Survey,
    Install,
}

impl PhotoKind {
    fn as_str(self) -> &'static str {
        match self {
            PhotoKind::Survey => "survey",
            PhotoKind::Install => "install",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "survey" => Some(PhotoKind::Survey),
            "install" => Some(PhotoKind::Install),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Photo {
    #[schema(value_type = String)]
    pub id: PhotoId,
    #[schema(value_type = String)]
    pub job_id: JobId,
    pub kind: PhotoKind,
    /// What it shows; photos from before subjects existed have none.
    pub subject: Option<PhotoSubject>,
    pub content_type: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    storage_key: String,
}

impl From<photo::Model> for Photo {
    fn from(p: photo::Model) -> Self {
        Self {
            id: PhotoId(p.id),
            job_id: JobId(p.job_id),
            kind: PhotoKind::parse(&p.kind).unwrap_or(PhotoKind::Survey),
            subject: p.subject.as_deref().and_then(PhotoSubject::parse),
            content_type: p.content_type,
            bytes: p.bytes,
            width: p.width,
            height: p.height,
            created_at: p.created_at,
            storage_key: p.storage_key,
        }
    }
}

/// A clean image: pixels only, in the format it came in.
#[derive(Debug)]
pub struct Clean {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Decodes `raw` by its content and encodes it again, turned upright (the EXIF orientation
/// is applied, since the EXIF block does not survive).
pub fn sanitize(raw: &[u8], max_bytes: usize) -> Result<Clean, PhotoError> {
    if raw.len() > max_bytes {
        return Err(PhotoError::TooLarge(max_bytes));
    }
    let format = image::guess_format(raw).map_err(|_| PhotoError::NotAnImage)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(PhotoError::NotAnImage);
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(raw), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let orientation = decoder.orientation().map_err(refusal)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let mut out = Cursor::new(Vec::new());
    let content_type = match format {
        ImageFormat::Png => {
            img.write_to(&mut out, ImageFormat::Png).map_err(encode_failed)?;
            "image/png"
        }
        _ => {
            let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88);
            rgb.write_with_encoder(encoder).map_err(encode_failed)?;
            "image/jpeg"
        }
    };
    Ok(Clean {
        bytes: out.into_inner(),
        content_type,
        width,
        height,
    })
}

fn refusal(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::Limits(_) => PhotoError::TooManyPixels,
        _ => PhotoError::NotAnImage,
    }
}

fn encode_failed(e: image::ImageError) -> PhotoError {
    PhotoError::Internal(anyhow::anyhow!("re-encoding an image failed: {e}"))
}

/// States in which a crew takes photos: from the survey day to the inspection.
fn takes_photos(state: JobState) -> bool {
    (JobState::SurveyScheduled.position()..=JobState::Installed.position()).contains(&state.position())
}

/// A photo as sent: what it is of, the phone's key if it came from one, the bytes.
pub struct NewPhoto {
    pub kind: Option<PhotoKind>,
    pub subject: PhotoSubject,
    pub key: Option<IdempotencyKey>,
    pub raw: Vec<u8>,
}

/// A stored photo, and whether this request stored it or found it stored by an earlier
/// request with the same key.
pub struct Uploaded {
    pub photo: Photo,
    pub replay: bool,
}

async fn sent_before(
    db: &DatabaseConnection,
    job: JobId,
    key: &IdempotencyKey,
) -> Result<Option<Photo>, DbErr> {
    Ok(photo::Entity::find()
        .filter(photo::Column::JobId.eq(job.0))
        .filter(photo::Column::IdempotencyKey.eq(key.as_str()))
        .one(db)
        .await?
        .map(Photo::from))
}

/// Stores a photo of `job` from its assigned crew. The same key twice stores it once.
pub async fn upload(
    db: &DatabaseConnection,
    files: &FileStore,
    actor: &Actor,
    job: &Job,
    new: NewPhoto,
    max_bytes: usize,
) -> Result<Uploaded, PhotoError> {
    if let Some(key) = &new.key
        && let Some(photo) = sent_before(db, job.id, key).await?
    {
        return Ok(Uploaded { photo, replay: true });
    }
    let NewPhoto {
        kind,
        subject,
        key: idempotency_key,
        raw,
    } = new;
    if !takes_photos(job.state) {
        return Err(PhotoError::WrongState);
    }
    // Before the survey is recorded a photo is the survey's; after, the installation's.
    let kind = kind.unwrap_or(if job.state.position() <= JobState::Surveyed.position() {
        PhotoKind::Survey
    } else {
        PhotoKind::Install
    });
    if list(db, job.id).await?.len() >= MAX_PER_JOB {
        return Err(PhotoError::TooMany);
    }
    // Decoding is CPU work: off the async workers.
    let clean = tokio::task::spawn_blocking(move || sanitize(&raw, max_bytes))
        .await
        .map_err(|e| anyhow::anyhow!("photo task failed: {e}"))??;
    let id = PhotoId::new();
    let key = FileStore::new_key("photos");
    let size = clean.bytes.len() as i64;
    // Encrypted before it leaves the process (S-CR-3): the store never holds the picture.
    let (sealed, key_id) = crate::crypto::seal::seal_file(db, &clean.bytes).await?;
    files.put(&key, sealed).await?;
    let tx = crate::db::begin(db).await?;
    let inserted = photo::Entity::insert(photo::ActiveModel {
        id: Set(id.0),
        job_id: Set(job.id.0),
        uploaded_by: Set(actor.user_id.map(|u| u.0).unwrap_or_default()),
        kind: Set(kind.as_str().to_owned()),
        content_type: Set(clean.content_type.to_owned()),
        bytes: Set(size),
        width: Set(i32::try_from(clean.width).unwrap_or(i32::MAX)),
        height: Set(i32::try_from(clean.height).unwrap_or(i32::MAX)),
        storage_key: Set(key.clone()),
        key_id: Set(Some(key_id)),
        created_at: Set(Utc::now()),
        subject: Set(Some(subject.as_str().to_owned())),
        idempotency_key: Set(idempotency_key.as_ref().map(|k| k.as_str().to_owned())),
    })
    .exec_without_returning(&tx)
    .await;
    if let Err(e) = inserted {
        drop(tx);
        files.delete(&key).await.ok();
        // Two replays of one photo raced: the unique key let one in; answer with that one.
        if let Some(k) = &idempotency_key
            && let Some(photo) = sent_before(db, job.id, k).await?
        {
            return Ok(Uploaded { photo, replay: true });
        }
        return Err(e.into());
    }
    let details = Details::new()
        .with("photo", id.0)
        .with("kind", kind.as_str())
        .with("subject", subject.as_str());
    audit::record(
        &tx,
        actor,
        Action::PhotoUploaded,
        Some(job_target(job.id)),
        details,
    )
    .await?;
    let stored = photo::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or(PhotoError::NotFound)?;
    if let Err(e) = tx.commit().await {
        // The row is not there: do not keep its file.
        files.delete(&key).await.ok();
        return Err(e.into());
    }
    Ok(Uploaded {
        photo: stored.into(),
        replay: false,
    })
}

/// Which of `required` the job has no photo of yet, in the order required.
pub async fn missing<C: crate::db::Conn>(
    conn: &C,
    job: JobId,
    required: &[PhotoSubject],
) -> Result<Vec<PhotoSubject>, DbErr> {
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let taken: Vec<Option<String>> = photo::Entity::find()
        .select_only()
        .column(photo::Column::Subject)
        .filter(photo::Column::JobId.eq(job.0))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(required
        .iter()
        .copied()
        .filter(|s| !taken.iter().flatten().any(|t| t == s.as_str()))
        .collect())
}

/// A job's photos, oldest first.
pub async fn list(db: &DatabaseConnection, job: JobId) -> Result<Vec<Photo>, DbErr> {
    Ok(photo::Entity::find()
        .filter(photo::Column::JobId.eq(job.0))
        .order_by_asc(photo::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Photo::from)
        .collect())
}

/// The bytes of photo `id` of `job`. The caller checked the right to the job (and for staff,
/// a live grant).
pub async fn read(
    db: &DatabaseConnection,
    files: &FileStore,
    job: JobId,
    id: PhotoId,
) -> Result<(Photo, Vec<u8>), PhotoError> {
    let photo: Photo = photo::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .filter(|p| p.job_id == job.0)
        .ok_or(PhotoError::NotFound)?
        .into();
    let bytes = crate::crypto::seal::open_file(db, &files.get(&photo.storage_key).await?).await?;
    Ok((photo, bytes))
}

/// Who may add photos: the assigned crew only.
pub fn may_upload(party: Party) -> bool {
    party == Party::AssignedCrew
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_gps() -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 48, image::Rgb([200, 120, 40])));
        let mut plain = Cursor::new(Vec::new());
        img.write_to(&mut plain, ImageFormat::Jpeg).unwrap();
        let plain = plain.into_inner();
        // An APP1 EXIF segment with a GPS marker, right after SOI.
        let payload = b"Exif\0\0MM\0*\0\0\0\x08GPSLatitude 36.0726 N GPSLongitude 79.7920 W";
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn metadata_does_not_survive_and_pixels_do() {
        let raw = jpeg_with_gps();
        assert!(raw.windows(11).any(|w| w == b"GPSLatitude"));
        let clean = sanitize(&raw, 1 << 20).unwrap();
        assert_eq!((clean.width, clean.height), (64, 48));
        assert_eq!(clean.content_type, "image/jpeg");
        assert!(!clean.bytes.windows(4).any(|w| w == b"Exif"));
        assert!(!clean.bytes.windows(3).any(|w| w == b"GPS"));
        assert!(image::load_from_memory(&clean.bytes).is_ok());
    }

    #[test]
    fn only_jpeg_and_png_by_content_pass() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        assert!(matches!(sanitize(svg, 1 << 20), Err(PhotoError::NotAnImage)));
        assert!(matches!(
            sanitize(b"GIF89a....", 1 << 20),
            Err(PhotoError::NotAnImage)
        ));
        // A JPEG header and nothing after it.
        assert!(matches!(
            sanitize(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0], 1 << 20),
            Err(PhotoError::NotAnImage)
        ));
        let img = DynamicImage::ImageRgba8(image::RgbaImage::new(8, 8));
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, ImageFormat::Png).unwrap();
        let clean = sanitize(&png.into_inner(), 1 << 20).unwrap();
        assert_eq!(clean.content_type, "image/png");
    }

    #[test]
    fn bytes_and_pixels_are_bounded() {
        assert!(matches!(
            sanitize(&jpeg_with_gps(), 100),
            Err(PhotoError::TooLarge(100))
        ));
        // A PNG header claiming 100,000 × 100,000 pixels: refused before any allocation.
        let mut png = Cursor::new(Vec::new());
        DynamicImage::ImageLuma8(image::GrayImage::new(4, 4))
            .write_to(&mut png, ImageFormat::Png)
            .unwrap();
        let mut bomb = png.into_inner();
        // IHDR width and height sit at bytes 16..24; the CRC no longer matches either way.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(sanitize(&bomb, 1 << 20).is_err());
    }
}
