import { promisify } from 'node:util';
import { constants, crc32, deflateRaw as deflateRawCallback } from 'node:zlib';

const deflateRaw = promisify(deflateRawCallback);

/** A gzip header (RFC 1952): deflate, no name, no time, from Unix. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/** The part of a gzip body that stays the same from one response to the next, compressed once. */
export interface CompressedHead {
  /** Deflate blocks ending in a sync flush: byte-aligned, not final, so more blocks may follow. */
  readonly blocks: Buffer;
  readonly crc: number;
  readonly length: number;
}

/** Deflate blocks of text that more blocks will follow: byte-aligned, not final, no reference before them. */
export function compressSegment(text: Buffer): Promise<Buffer> {
  return deflateRaw(text, { finishFlush: constants.Z_SYNC_FLUSH });
}

export async function compressHead(head: Buffer): Promise<CompressedHead> {
  return { blocks: await compressSegment(head), crc: crc32(head), length: head.length };
}

/** A text compressed piece by piece (each piece once, its blocks kept) as one head: the pieces' blocks in order. */
export async function joinSegments(all: readonly { plain: Buffer; deflated(): Promise<Buffer> }[]): Promise<CompressedHead> {
  // Empty pieces add nothing; and Node 20's crc32 answers 0 for an empty buffer once zlib has read it.
  const pieces = all.filter((piece) => piece.plain.length > 0);
  const blocks = await Promise.all(pieces.map((piece) => piece.deflated()));
  let crc = 0;
  let length = 0;
  for (const { plain } of pieces) {
    crc = crc32(plain, crc);
    length += plain.length;
  }
  return { blocks: Buffer.concat(blocks), crc, length };
}

/**
 * One gzip member made of a head compressed once and a tail compressed now: the tail's compressor
 * starts empty, so none of its back-references reach into the head, and its blocks follow the head's
 * sync flush as a valid continuation of one deflate stream. Every gzip reader reads it as one body.
 */
export async function gzipBody(head: CompressedHead, tail: Buffer): Promise<Buffer[]> {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(tail, head.crc), 0);
  trailer.writeUInt32LE((head.length + tail.length) % 2 ** 32, 4);
  return [HEADER, head.blocks, await deflateRaw(tail), trailer];
}
