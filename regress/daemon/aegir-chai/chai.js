// aegir/chai as @libp2p/interop uses it: expect(x).to.exist() (parentheses),
// .equalBytes (bites) and .eventually.be.rejected (as-promised).
import * as chai from 'chai'
import chaiAsPromised from 'chai-as-promised'
import chaiBites from 'chai-bites'
import chaiParentheses from 'chai-parentheses'

// aegir's order: chai-as-promised must come before chai-parentheses.
chai.use(chaiAsPromised)
chai.use(chaiParentheses)
chai.use(chaiBites)

export const expect = chai.expect
export const assert = chai.assert
export { chai }
