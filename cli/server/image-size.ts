/**
 * Width and height from a PNG or JPEG header without decoding the picture, so
 * a small upload that claims to be huge (a decompression bomb) is refused
 * before any memory is spent on it. null when the header cannot be read.
 */
export function imageSize(file: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length >= 24 && file[0] === 0x89 && file[1] === 0x50 && file[2] === 0x4e && file[3] === 0x47) {
    // Signature (8), IHDR length (4) and type (4), then width and height.
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (file.length >= 4 && file[0] === 0xff && file[1] === 0xd8) {
    let pos = 2;
    while (pos + 9 <= file.length) {
      if (file[pos] !== 0xff) return null;
      const marker = file[pos + 1]!;
      if (marker === 0xff) {
        pos += 1; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        pos += 2; // markers without a length
        continue;
      }
      const length = view.getUint16(pos + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: view.getUint16(pos + 7), height: view.getUint16(pos + 5) };
      }
      pos += 2 + length;
    }
  }
  return null;
}
