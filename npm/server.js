// `hallpass/server`: an app backend's side of Hallpass, for any runtime with Web `Request`/`Response`
// and WebCrypto (Node.js 20+, Bun, Deno, edge runtimes). Never loads the WebAssembly SDK.
// - verifyToken: a session token checked offline (server/verify.js, keys.js);
// - authenticateRequest: a request's auth state and `toAuth()` (server/request.js, claims.js), with
//   the session-cookie handshake (server/handshake.js);
// - createHallpassClient: the Backend API (server/api.js);
// - verifyWebhook: Standard Webhooks signatures (server/webhooks.js).
export { verifyToken } from "./server/verify.js";
export { authenticateRequest, AuthStatus, AuthErrorReason } from "./server/request.js";
export { createHandshakeResponse, handshakeAssetResponse, HANDSHAKE_ASSET_PATH } from "./server/handshake.js";
export { createHallpassClient } from "./server/api.js";
export { verifyWebhook, verifyWebhookPayload } from "./server/webhooks.js";
export { decodePublishableKey } from "./server/instance.js";
export {
  TokenVerificationError,
  TokenVerificationErrorReason,
  HallpassAPIResponseError,
  isHallpassAPIResponseError,
  WebhookVerificationError,
} from "./server/errors.js";
