import { computeHa1 } from '@switchboard/sip-stack';

/** The digests stored for a device instead of its password. */
export interface DeviceDigests {
  /** MD5(user:realm:pass) */
  ha1: string;
  /** MD5(user@domain:realm:pass): for user agents that send the username with the domain. */
  ha1b: string;
  /** SHA-256(user:realm:pass) (RFC 8760) */
  ha1_sha256: string;
  /** SHA-512/256(user:realm:pass) (RFC 8760) */
  ha1_sha512_256: string;
}

/** Digests of a device password; the realm is the device's SIP domain. */
export function deviceDigests(
  authUsername: string,
  realm: string,
  password: string,
): DeviceDigests {
  return {
    ha1: computeHa1('MD5', authUsername, realm, password),
    ha1b: computeHa1('MD5', `${authUsername}@${realm}`, realm, password),
    ha1_sha256: computeHa1('SHA-256', authUsername, realm, password),
    ha1_sha512_256: computeHa1('SHA-512-256', authUsername, realm, password),
  };
}
