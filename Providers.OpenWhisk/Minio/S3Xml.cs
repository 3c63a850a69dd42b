using System.IO;
using System.Threading;
using System.Threading.Tasks;
using System.Xml;
using System.Xml.Linq;

namespace Neutral.Providers.OpenWhisk;

/// <summary>
/// Reading S3's XML answers with LINQ to XML (trimming-safe, unlike XmlSerializer): no DTD, elements matched by local
/// name, so a server that leaves out S3's namespace reads the same.
/// </summary>
internal static class S3Xml
{
    private static readonly XmlReaderSettings Safe = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, Async = true };

    /// <summary>The document in <paramref name="stream"/>.</summary>
    public static async Task<XElement> LoadAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = XmlReader.Create(stream, Safe);
        XDocument document = await XDocument.LoadAsync(reader, LoadOptions.None, cancellationToken).ConfigureAwait(false);
        return document.Root ?? throw new XmlException("The answer has no root element.");
    }

    /// <summary>The document in <paramref name="text"/>.</summary>
    public static XElement Parse(string text)
    {
        using var reader = XmlReader.Create(new StringReader(text), Safe);
        return XDocument.Load(reader).Root ?? throw new XmlException("The answer has no root element.");
    }

    /// <summary>The text of <paramref name="parent"/>'s first child named <paramref name="name"/>, or null.</summary>
    public static string? Child(XElement parent, string name)
    {
        foreach (XElement element in parent.Elements())
        {
            if (element.Name.LocalName == name)
            {
                return element.Value;
            }
        }

        return null;
    }
}
