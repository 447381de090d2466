import { expect } from 'bun:test'
import { ProblemSchema } from '@/api/problem'

/** The parsed JSON body of a response (or of a pending one). */
// biome-ignore lint: bodies are asserted field by field
export const json = async (response: Response | Promise<Response>): Promise<any> =>
  (await response).json()

/** Asserts an RFC 9457 problem with the status, the code and the request's correlation id. */
export async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = ProblemSchema.parse(await response.json())
  expect(body.type).toEndWith(`/${code}`)
  expect(body.correlation_id).toBe(response.headers.get('x-correlation-id')!)
  return body
}
