/**
 * Frame Streams (fstrm), the framing dnstap travels in (farsightsec/fstrm, "Frame Streams
 * Control Frames"): a data frame is a 32-bit big-endian length and that many octets; a control
 * frame is an escape (a zero length), its own 32-bit length, a 32-bit control type and fields
 * (CONTENT_TYPE: 32-bit type 1, 32-bit length, the content type string).
 *
 * Bidirectional (a Unix socket to a collector such as fstrm_capture): the writer sends READY
 * with its content types, the reader answers ACCEPT with the one it takes, the writer sends
 * START, data frames, and at the end STOP, which the reader answers with FINISH.
 * Unidirectional (a file): START, data frames, STOP.
 */

export const Control = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;
/** The only control field: the content type (fstrm CONTROL_FIELD_CONTENT_TYPE). */
const FIELD_CONTENT_TYPE = 1;
/** The content type of dnstap payloads. */
export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';
/** Longest control frame we accept from a reader (fstrm's FSTRM_CONTROL_FRAME_LENGTH_MAX). */
export const MAX_CONTROL_LENGTH = 512;

/** A control frame, escape included: `type` with a CONTENT_TYPE field when `contentType` is given. */
export function controlFrame(type: number, contentType?: string): Buffer {
  const ct = contentType === undefined ? undefined : Buffer.from(contentType, 'utf8');
  const bodyLen = 4 + (ct === undefined ? 0 : 8 + ct.length);
  const b = Buffer.alloc(8 + bodyLen);
  b.writeUInt32BE(0, 0);
  b.writeUInt32BE(bodyLen, 4);
  b.writeUInt32BE(type, 8);
  if (ct !== undefined) {
    b.writeUInt32BE(FIELD_CONTENT_TYPE, 12);
    b.writeUInt32BE(ct.length, 16);
    ct.copy(b, 20);
  }
  return b;
}

/** A decoded control frame. */
export interface ControlFrame {
  type: number;
  contentTypes: string[];
}

/** What the frame parser found at the start of `buf`: a frame and the octets it took, or undefined to wait for more. */
export type ParsedFrame = { kind: 'control'; frame: ControlFrame; length: number } | { kind: 'data'; data: Buffer; length: number };

/** Parses one frame at the start of `buf`; undefined when it is not complete yet. Throws on a malformed control frame. */
export function parseFrame(buf: Buffer): ParsedFrame | undefined {
  if (buf.length < 4) return undefined;
  const len = buf.readUInt32BE(0);
  if (len > 0) {
    if (buf.length < 4 + len) return undefined;
    return { kind: 'data', data: buf.subarray(4, 4 + len), length: 4 + len };
  }
  if (buf.length < 8) return undefined;
  const clen = buf.readUInt32BE(4);
  if (clen < 4 || clen > MAX_CONTROL_LENGTH) throw new Error(`control frame of ${clen} octets`);
  if (buf.length < 8 + clen) return undefined;
  const type = buf.readUInt32BE(8);
  const contentTypes: string[] = [];
  for (let p = 12; p < 8 + clen; ) {
    if (p + 8 > 8 + clen) throw new Error('control field cut short');
    const ft = buf.readUInt32BE(p);
    const fl = buf.readUInt32BE(p + 4);
    if (p + 8 + fl > 8 + clen) throw new Error('control field runs past its frame');
    if (ft === FIELD_CONTENT_TYPE) contentTypes.push(buf.toString('utf8', p + 8, p + 8 + fl));
    p += 8 + fl;
  }
  return { kind: 'control', frame: { type, contentTypes }, length: 8 + clen };
}
