import { expect, test } from 'bun:test'
import { uuidV5 } from './uuid'

test('uuidV5 matches the RFC 9562 test vector', () => {
  // RFC 9562 appendix A.4: name "www.example.com" in the DNS namespace.
  expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
    '2ed6657d-e927-568b-95e1-2665a8aea6a2'
  )
})
