import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/projection/schema.ts',
  out: './drizzle',
})
