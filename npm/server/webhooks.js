// `verifyWebhook`: a webhook from the Hallpass server checked as Standard Webhooks (and Svix, whose
// scheme it is) define it: HMAC-SHA256 with the endpoint's secret (`whsec_` + base64) over
// `<id>.<timestamp>.<body>`, any of the space-separated `v1,<base64>` signatures of the
// `webhook-signature` header (or `svix-signature`, with `svix-id` / `svix-timestamp`) matching, and
// the timestamp within five minutes of this clock (replays of old deliveries are refused). The
// comparison is WebCrypto's own `verify`, constant-time.
import { readLimited } from "./body.js";
import { WebhookVerificationError } from "./errors.js";

/** How far the delivery's timestamp may be from this clock, either way (Standard Webhooks: 5 min). */
export const WEBHOOK_TOLERANCE_SECS = 5 * 60;
/** Webhook bodies are small JSON events; anything larger is refused unread. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The three headers, Standard Webhooks' names first, then Svix's. */
function webhookHeaders(headers) {
  const get = (name) => headers.get(`webhook-${name}`) ?? headers.get(`svix-${name}`);
  return { id: get("id"), timestamp: get("timestamp"), signature: get("signature") };
}

/**
 * Verifies the raw `payload` of a delivery with `headers` (a `Headers` or a plain object) and
 * returns the event; throws a `WebhookVerificationError` otherwise.
 */
export async function verifyWebhookPayload(payload, headers, signingSecret) {
  if (typeof signingSecret !== "string" || signingSecret === "") {
    throw new TypeError("verifyWebhook needs signingSecret (HALLPASS_WEBHOOK_SIGNING_SECRET)");
  }
  let key;
  try {
    key = await crypto.subtle.importKey("raw", fromBase64(signingSecret.replace(/^whsec_/, "")), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  } catch {
    throw new TypeError("signingSecret is not a webhook signing secret (whsec_ followed by base64)");
  }
  const h = webhookHeaders(headers instanceof Headers ? headers : new Headers(headers));
  if (!h.id || !h.timestamp || !h.signature) throw new WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header");
  if (!/^\d{1,12}$/.test(h.timestamp)) throw new WebhookVerificationError("Invalid webhook-timestamp header");
  const skew = Math.abs(Date.now() / 1000 - Number(h.timestamp));
  if (skew > WEBHOOK_TOLERANCE_SECS) throw new WebhookVerificationError("The webhook's timestamp is too old or too new (a replay?)");
  if (typeof payload !== "string") throw new TypeError("the webhook payload must be the raw body as a string");
  const signed = new TextEncoder().encode(`${h.id}.${h.timestamp}.${payload}`);
  let matched = false;
  for (const candidate of h.signature.split(" ").slice(0, 16)) {
    const comma = candidate.indexOf(",");
    if (comma === -1 || candidate.slice(0, comma) !== "v1") continue;
    let signature;
    try {
      signature = fromBase64(candidate.slice(comma + 1));
    } catch {
      continue;
    }
    if (await crypto.subtle.verify("HMAC", key, signature, signed)) {
      matched = true;
      break;
    }
  }
  if (!matched) throw new WebhookVerificationError("No matching webhook signature");
  try {
    return JSON.parse(payload);
  } catch {
    throw new WebhookVerificationError("The webhook body is not JSON");
  }
}

/**
 * Verifies a webhook `Request` (read once here) and returns its event, as Clerk's `verifyWebhook`.
 * `signingSecret` defaults to `HALLPASS_WEBHOOK_SIGNING_SECRET`.
 */
export async function verifyWebhook(request, options = {}) {
  const secret = options.signingSecret ?? globalThis.process?.env?.HALLPASS_WEBHOOK_SIGNING_SECRET;
  const body = await readLimited(request, MAX_WEBHOOK_BYTES);
  if (body === null) throw new WebhookVerificationError(`The webhook body is larger than ${MAX_WEBHOOK_BYTES} bytes`);
  return verifyWebhookPayload(body, request.headers, secret);
}
