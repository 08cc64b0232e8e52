// The RADIUS codec's public API. It imports nothing of ours and never touches a socket.
export * from './constants.js';
export { RadiusDecodeError, RadiusEncodeError, type RadiusDecodeReason, type RadiusEncodeReason } from './errors.js';
export {
  attributeByName, attributeByType, isTagged, makeAttribute, readAttribute, requiredValueSize, valueByName, valueName,
  type AttributeDefinition, type AttributeInput, type ValueType,
} from './dictionary.js';
export { decodePacket, encodePacket, joinAttribute, type EncodeOptions, type RadiusAttribute, type RadiusPacket } from './packet.js';
export {
  verifyAccountingRequest, verifyDecodedRequestMessageAuthenticator, verifyRequestMessageAuthenticator, verifyResponseAuthenticator,
  verifyResponseMessageAuthenticator, type MessageAuthenticatorStatus,
} from './verify.js';
export {
  MAX_SALTED_DATA_LENGTH, MAX_USER_PASSWORD_LENGTH, hideMsMppeKey, hideMsMppeKeys, hideSalted, hideTunnelPassword,
  hideUserPassword, unhideMsMppeKey, unhideSalted, unhideTunnelPassword, unhideUserPassword, type RandomSource,
} from './hiding.js';
export { hmacMd5, md5Authenticator, type Secret } from './authenticator.js';
