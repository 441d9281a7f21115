import { readFileSync } from 'node:fs';

export interface PngInfo {
  width: number;
  height: number;
  /** PNG colour type: 6 is RGBA, 4 grey+alpha, 2 RGB, 3 palette. */
  colorType: number;
  hasAlpha: boolean;
}

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** Reads a PNG's header (IHDR): enough to check an icon's size and whether it can be transparent. */
export function readPngInfo(path: string): PngInfo {
  const bytes = readFileSync(path);
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE) || bytes.toString('ascii', 12, 16) !== 'IHDR') {
    throw new Error(`${path} is not a PNG file`);
  }
  const colorType = bytes[25]!;
  // Palette images are transparent when they carry a tRNS chunk.
  const hasAlpha = colorType === 4 || colorType === 6 || (colorType === 3 && bytes.includes(Buffer.from('tRNS')));
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), colorType, hasAlpha };
}
