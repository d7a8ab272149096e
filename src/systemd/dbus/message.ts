/**
 * D-Bus messages: the fixed header, header fields and body, encoded and decoded
 * per the specification's "Message Format". Pure.
 */
import { Variant, Writer, parseSignature } from "./marshal.ts";
import { Reader } from "./unmarshal.ts";

export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
export const FLAG_NO_REPLY_EXPECTED = 0x1;

const FIELD = { PATH: 1, INTERFACE: 2, MEMBER: 3, ERROR_NAME: 4, REPLY_SERIAL: 5, DESTINATION: 6, SENDER: 7, SIGNATURE: 8 } as const;

export interface Message {
  type: number;
  flags: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature: string;
  body: unknown[];
}

/** Encodes a message (little-endian). */
export function encodeMessage(m: Message): Uint8Array {
  const body = new Writer();
  if (m.signature) body.values(m.signature, m.body);
  const bodyBytes = body.result();

  const fields: Array<[number, Variant]> = [];
  if (m.path !== undefined) fields.push([FIELD.PATH, new Variant("o", m.path)]);
  if (m.interface !== undefined) fields.push([FIELD.INTERFACE, new Variant("s", m.interface)]);
  if (m.member !== undefined) fields.push([FIELD.MEMBER, new Variant("s", m.member)]);
  if (m.errorName !== undefined) fields.push([FIELD.ERROR_NAME, new Variant("s", m.errorName)]);
  if (m.replySerial !== undefined) fields.push([FIELD.REPLY_SERIAL, new Variant("u", m.replySerial)]);
  if (m.destination !== undefined) fields.push([FIELD.DESTINATION, new Variant("s", m.destination)]);
  if (m.signature) fields.push([FIELD.SIGNATURE, new Variant("g", m.signature)]);

  const w = new Writer();
  w.values("yyyyuua(yv)", ["l".charCodeAt(0), m.type, m.flags, 1, bodyBytes.length, m.serial, fields]);
  w.align(8);
  w.bytes(bodyBytes);
  return w.result();
}

/** Length of the complete message at the start of `buf`, or undefined when more bytes are needed. */
export function messageLength(buf: Uint8Array): number | undefined {
  const total = messageSize(buf);
  return total !== undefined && buf.length >= total ? total : undefined;
}

/** Length of the message that starts `buf` (complete or not), or undefined while its fixed header is incomplete. */
export function messageSize(buf: Uint8Array): number | undefined {
  if (buf.length < 16) return undefined;
  const little = buf[0] === 0x6c;
  if (!little && buf[0] !== 0x42) throw new Error(`bad D-Bus endianness byte ${buf[0]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bodyLength = view.getUint32(4, little);
  const fieldsLength = view.getUint32(12, little);
  const headerEnd = 16 + fieldsLength;
  const total = headerEnd + ((8 - (headerEnd % 8)) % 8) + bodyLength;
  if (total > 128 * 1024 * 1024) throw new Error("D-Bus message larger than the specification allows");
  return total;
}

/**
 * Reads a reply's body in a shape of the caller's choosing instead of the generic
 * one (e.g. only the fields of a long list that are used); `signature` is the body
 * it expects.
 */
export interface BodyReader {
  signature: string;
  read(r: Reader): unknown[];
}

/** Decodes one complete message; its body by `body` (whose signature the caller checked), else generically. */
export function decodeMessage(buf: Uint8Array, body?: BodyReader): Message {
  const { message, reader } = decodeHeader(buf);
  decodeBody(message, reader, body);
  return message;
}

/** Decodes a message's header; its body is left to `decodeBody`, at the reader's position. */
export function decodeHeader(buf: Uint8Array): { message: Message; reader: Reader } {
  const little = buf[0] === 0x6c;
  const r = new Reader(buf, 0, little);
  const [, type, flags, , , serial, fields] = r.values("yyyyuua(yv)") as [number, number, number, number, number, number, Array<[number, unknown]>];
  r.align(8);
  const m: Message = { type, flags, serial, signature: "", body: [] };
  for (const [code, value] of fields) {
    if (code === FIELD.PATH) m.path = value as string;
    else if (code === FIELD.INTERFACE) m.interface = value as string;
    else if (code === FIELD.MEMBER) m.member = value as string;
    else if (code === FIELD.ERROR_NAME) m.errorName = value as string;
    else if (code === FIELD.REPLY_SERIAL) m.replySerial = value as number;
    else if (code === FIELD.DESTINATION) m.destination = value as string;
    else if (code === FIELD.SENDER) m.sender = value as string;
    else if (code === FIELD.SIGNATURE) m.signature = value as string;
  }
  return { message: m, reader: r };
}

/** Fills in the body of a message whose header `decodeHeader` read. */
export function decodeBody(m: Message, r: Reader, body?: BodyReader): void {
  if (!m.signature) return;
  m.body = body ? body.read(r) : parseSignature(m.signature).map((t) => r.value(t));
}
