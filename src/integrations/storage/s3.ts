import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AttachmentTooLarge, isContentKey, Measure, type AttachmentStore, type PutResult, type SignedUrlOptions } from './port.js';

/**
 * Attachments in an S3 bucket, Amazon's or an S3-compatible server's (endpoint + path-style). A file is
 * streamed to `tmp/<uuid>` with lib-storage's Upload (multipart in parts of 5 MiB, two in flight, so
 * memory stays at about 10 MiB whatever the size), copied server-side to its hash when no object has
 * that hash yet, and the temporary object deleted. Credentials come from the SDK's default chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance or container role).
 *   Upload: https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-aws-sdk-lib-storage/
 *   CopyObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 *   Presigned GET with response-content-disposition: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 * The bucket must exist (npm run doctor checks it).
 */
export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** Only for tests against a local server; production uses the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const PART_BYTES = 5 * 1024 * 1024;

export class S3Store implements AttachmentStore {
  readonly name = 's3' as const;
  readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      // A copy: the SDK marks the object it is given, and the configuration's is frozen.
      ...(settings.credentials ? { credentials: { ...settings.credentials } } : {}),
      // Checksums only where S3 requires them: compatible servers that predate the SDK's default
      // CRC32 trailers (aws-chunked uploads) would otherwise store the framing with the bytes.
      // https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  describe(): string {
    return `S3 bucket ${this.settings.bucket}${this.settings.endpoint ? ` at ${this.settings.endpoint}` : ` in ${this.settings.region}`}`;
  }

  async put(content: Readable, options: { maxBytes: number }): Promise<PutResult> {
    const Bucket = this.settings.bucket;
    const tempKey = `tmp/${randomUUID()}`;
    const measure = new Measure(options.maxBytes);
    const measured = pipeline(content, measure, () => undefined);
    try {
      await new Upload({ client: this.client, params: { Bucket, Key: tempKey, Body: measured }, partSize: PART_BYTES, queueSize: 2 }).done();
      if (measure.errored) throw measure.errored;
      const result = await measure.result();
      let created = false;
      if (!(await this.exists(result.key))) {
        await this.client.send(new CopyObjectCommand({ Bucket, Key: result.key, CopySource: `${Bucket}/${tempKey}` }));
        created = true;
      }
      return { ...result, created };
    } catch (error) {
      if (measure.errored instanceof AttachmentTooLarge) throw measure.errored;
      throw error;
    } finally {
      await this.client.send(new DeleteObjectCommand({ Bucket, Key: tempKey })).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Readable | null> {
    if (!isContentKey(key)) return null;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return (response.Body as Readable | undefined) ?? null;
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    if (!isContentKey(key)) return false;
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    if (!isContentKey(key)) return;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
    if (!isContentKey(key)) throw new Error('not an attachment key');
    const command = new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, ResponseContentDisposition: options.contentDisposition, ResponseContentType: options.contentType });
    return getSignedUrl(this.client, command, { expiresIn: Math.max(1, Math.round(options.ttlMs / 1000)) });
  }
}

function notFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound');
}
