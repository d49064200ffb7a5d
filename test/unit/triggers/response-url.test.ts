import { describe, expect, it } from 'vitest'
import { isAllowedPrefix, isAllowedResponseUrl } from '../../../broker/triggers/response-url.ts'

describe('response_url', () => {
  it.each([
    'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
    'https://hooks.slack.com/actions/T1/1/x',
  ])('Slack URLs pass by default: %s', (url) => {
    expect(isAllowedResponseUrl(url)).toBe(true)
  })

  it.each([
    'http://hooks.slack.com/commands/T1/1/x',
    'https://hooks.slack.com.evil.example/commands/T1/1/x',
    'https://hooks.slack.com@evil.example/commands/T1/1/x',
    'https://evil.example/https://hooks.slack.com/',
    'https://hooks.slack.com:8443/commands/T1/1/x',
    'https://user:pw@hooks.slack.com/commands/T1/1/x',
    'http://127.0.0.1:9999/hooks/x',
    'javascript:alert(1)',
    'not a url',
  ])('anything else is refused by default: %s', (url) => {
    expect(isAllowedResponseUrl(url)).toBe(false)
  })

  it('an override lets a test receiver on 127.0.0.1 through, and only under its path', () => {
    const prefixes = ['http://127.0.0.1:9999/hooks/']
    expect(isAllowedResponseUrl('http://127.0.0.1:9999/hooks/T1/abc', prefixes)).toBe(true)
    expect(isAllowedResponseUrl('http://127.0.0.1:9999/other', prefixes)).toBe(false)
    expect(isAllowedResponseUrl('http://127.0.0.1:9998/hooks/T1/abc', prefixes)).toBe(false)
    expect(isAllowedResponseUrl('https://hooks.slack.com/commands/T1/1/x', prefixes)).toBe(false)
  })

  it('plain http is a prefix only on loopback', () => {
    expect(isAllowedPrefix('http://127.0.0.1:1234/')).toBe(true)
    expect(isAllowedPrefix('http://localhost/')).toBe(true)
    expect(isAllowedPrefix('http://[::1]:80/')).toBe(true)
    expect(isAllowedPrefix('http://10.0.0.1/')).toBe(false)
    expect(isAllowedPrefix('https://hooks.slack.com/?x=1')).toBe(false)
    // A prefix the catalog loader would refuse never matches either.
    expect(isAllowedResponseUrl('http://10.0.0.1/x', ['http://10.0.0.1/'])).toBe(false)
  })
})
