import { readTokenFromStdin } from '../remote/credentials.js'

export async function tokenFromFlags(flags: { 'token-stdin': boolean }): Promise<string | undefined> {
  return flags['token-stdin'] ? readTokenFromStdin() : undefined
}
